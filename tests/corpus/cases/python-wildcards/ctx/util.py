def run():
    print('ok')
