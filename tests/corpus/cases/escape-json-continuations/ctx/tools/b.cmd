@echo b
