"""The line database: the station's link to it, pushing records, the sync state."""
