"""placeholder, replaced below"""
def blend(*args):
    return None
