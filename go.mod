module github.com/kefu-dev/kefu

go 1.26.8
