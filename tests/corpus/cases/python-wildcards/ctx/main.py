import util
util.run()
