print("klaxon-bench")
