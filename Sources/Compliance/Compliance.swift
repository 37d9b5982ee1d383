// Compliance module.
