// C shim over libpng and libjpeg-turbo (filled by the imaging work).
