module dockyard.io/sample-service

go 1.22
