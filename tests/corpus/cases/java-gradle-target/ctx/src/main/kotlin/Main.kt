fun main() = println("svc")
