package cli

// Exit statuses of layerdiff.
const (
	ExitOK         = 0 // report produced, every gate passed
	ExitGateFailed = 1 // a gate failed; the report was still printed
	ExitInput      = 2 // usage or input error
)
