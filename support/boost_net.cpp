// Asio's and Beast's non-template code, compiled here once instead of in every file that includes them
// (BOOST_ASIO_SEPARATE_COMPILATION and BOOST_BEAST_SEPARATE_COMPILATION, set for the whole build).
#include <boost/asio/impl/src.hpp>
#include <boost/beast/src.hpp>
