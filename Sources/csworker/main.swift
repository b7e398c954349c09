print("csworker")
