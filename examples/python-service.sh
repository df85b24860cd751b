#!/usr/bin/env bash
# Generates the example project: a small Python web service of the everyday
# kind, with what real trees carry besides the code (.git, .venv,
# __pycache__, test caches, a data directory, a secret or two).
#   examples/python-service.sh DIR
set -euo pipefail
dir=${1:?usage: python-service.sh DIR}
rm -rf "$dir"
mkdir -p "$dir"
cd "$dir"

mkdir -p app/api app/models tests data/raw data/processed .venv/lib/python3.11/site-packages \
  .pytest_cache/v/cache .mypy_cache notebooks
cat > requirements.txt <<'T'
flask==3.0.3
gunicorn==22.0.0
sqlalchemy==2.0.30
pydantic==2.7.1
T
cat > app/__init__.py <<'T'
from flask import Flask

def create_app():
    app = Flask(__name__)
    from .api import routes
    app.register_blueprint(routes.bp)
    return app
T
cat > app/api/__init__.py <<'T'
T
cat > app/api/routes.py <<'T'
from flask import Blueprint, jsonify

bp = Blueprint("api", __name__)

@bp.get("/health")
def health():
    return jsonify(status="ok")
T
cat > app/models/user.py <<'T'
from dataclasses import dataclass

@dataclass
class User:
    id: int
    name: str
T
cat > tests/test_health.py <<'T'
def test_health(client):
    assert client.get("/health").json == {"status": "ok"}
T
cat > Dockerfile <<'T'
FROM python:3.12-slim
WORKDIR /app
COPY requirements.txt .
RUN wc -l requirements.txt
COPY . .
CMD ["gunicorn", "-b", "0.0.0.0:8000", "app:create_app()"]
T
cat > .dockerignore <<'T'
# the usual first attempt: it forgets most of what is here
.git
__pycache__
*.pyc
T
cat > .gitignore <<'T'
.venv/
__pycache__/
.pytest_cache/
.mypy_cache/
data/
.env
T
printf 'DATABASE_URL=postgres://app:s3cret@db/app\n' > .env
# a virtualenv and caches: thousands of small files, some MB
for i in $(seq 1 400); do
  p=.venv/lib/python3.11/site-packages/pkg$((i % 40))/mod$i.py
  mkdir -p "$(dirname "$p")"
  head -c $((2000 + i * 13)) /dev/urandom | base64 > "$p"
done
for i in $(seq 1 60); do head -c 4096 /dev/urandom > ".pytest_cache/v/cache/n$i"; done
for i in $(seq 1 40); do head -c 8192 /dev/urandom > ".mypy_cache/m$i.json"; done
mkdir -p app/__pycache__ app/api/__pycache__
for f in app/__init__ app/api/routes; do head -c 3000 /dev/urandom > "${f%/*}/__pycache__/${f##*/}.cpython-311.pyc"; done
# a data directory nobody meant to ship
head -c $((24 * 1024 * 1024)) /dev/urandom > data/raw/events-2024.parquet
head -c $((6 * 1024 * 1024)) /dev/urandom > data/processed/features.npy
head -c 300000 /dev/urandom | base64 > notebooks/exploration.ipynb
# and its git history
git init -q
git -c user.name=demo -c user.email=demo@example.com add -A
git -c user.name=demo -c user.email=demo@example.com commit -qm "initial service"
for i in 1 2 3; do
  echo "# change $i" >> app/api/routes.py
  head -c 500000 /dev/urandom | base64 > "notebooks/run$i.txt"
  git -c user.name=demo -c user.email=demo@example.com add -A
  git -c user.name=demo -c user.email=demo@example.com commit -qm "change $i"
  git rm -q "notebooks/run$i.txt"
  git -c user.name=demo -c user.email=demo@example.com commit -qm "drop run $i"
done
echo "example project: $dir"
