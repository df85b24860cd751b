print('web')
