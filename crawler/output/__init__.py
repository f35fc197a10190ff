"""What a crawl writes: JSON lines flushed line by line and CSV with JSON list
fields (exporters.py), one text file per article (text.py), and the repair of an
appended output a killed crawl left with a half line (recovery.py)."""
