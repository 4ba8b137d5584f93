"""The floor that touches the kernel, shared by collectors and actions alike."""
