print("pruned")
