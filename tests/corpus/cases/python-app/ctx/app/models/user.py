class User: pass
