print("canceltrace")
