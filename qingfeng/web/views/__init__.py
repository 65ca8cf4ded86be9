"""Staff pages: thin views over the cases, intake and deadlines services and selectors."""
