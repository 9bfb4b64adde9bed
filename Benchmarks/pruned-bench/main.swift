print("pruned-bench")
