print('experiments')
