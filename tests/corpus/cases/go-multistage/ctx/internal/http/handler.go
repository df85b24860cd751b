package http

func Handle() {}
