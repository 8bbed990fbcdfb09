"""launcher: consumes task jobs, renders their pods and creates them."""
