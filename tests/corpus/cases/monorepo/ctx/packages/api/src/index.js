require('@x/shared')
