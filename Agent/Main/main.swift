print("agritrace-agent")
