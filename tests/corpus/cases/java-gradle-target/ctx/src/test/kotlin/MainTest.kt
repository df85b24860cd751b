class MainTest
