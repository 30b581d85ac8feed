"""Images: the signed image proxy, the disk cache, downloads (CBZ) and local archives."""
