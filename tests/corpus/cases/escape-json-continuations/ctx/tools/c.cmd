@echo c
