from .server import main
