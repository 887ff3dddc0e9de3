module example.com/p

go 1.25.0
