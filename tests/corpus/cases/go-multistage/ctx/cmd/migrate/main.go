package main

func main() { migrate() }
