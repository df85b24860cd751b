package store

type Store struct{}
