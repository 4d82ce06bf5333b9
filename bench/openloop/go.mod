module bullpen/openloop

go 1.19
