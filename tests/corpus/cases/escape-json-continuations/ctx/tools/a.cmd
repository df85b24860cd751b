@echo a
