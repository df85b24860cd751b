module example.com/server

go 1.22

require github.com/lib0/lib v1.0.0
