// ConsoleUI module.
