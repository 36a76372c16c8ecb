// Asio's TLS support compiled once, for the targets that speak TLS (see boost_net.cpp).
#include <boost/asio/ssl/impl/src.hpp>
