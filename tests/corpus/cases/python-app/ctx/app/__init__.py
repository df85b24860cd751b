def create_app():
    from .views import bp
    return bp
