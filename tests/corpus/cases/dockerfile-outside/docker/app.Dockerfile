FROM python:3.12-slim
WORKDIR /api
COPY api/ ./
COPY VERSION /VERSION
CMD ["python", "server.py"]
