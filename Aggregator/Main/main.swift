print("agritrace")
