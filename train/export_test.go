package train

// LockDir is lockDir for the external tests (another process holding a run's lock).
var LockDir = lockDir
