"""What the stand-in knows and does, apart from HTTP: accounts, preferences, the catalogue
(artists, albums, tracks as the API shows them) and the import task."""
