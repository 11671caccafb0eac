"""The factory authority: check-in time authority, device-certificate CA, firmware images, key custody."""
