// bench --compare's arithmetic: the order of each round and the median of each figure.
#include "bench/compare.hpp"

#include <gtest/gtest.h>

using namespace conformance::bench;
using Order = std::vector<std::size_t>;

TEST(BenchCompare, RoundsAlternateForwardAndBackward) {
    EXPECT_EQ(round_order(3, 0), (Order{0, 1, 2}));
    EXPECT_EQ(round_order(3, 1), (Order{2, 1, 0}));
    EXPECT_EQ(round_order(3, 2), (Order{0, 1, 2}));
    EXPECT_EQ(round_order(2, 5), (Order{1, 0}));
}

TEST(BenchCompare, MedianIsTheMiddleOrTheMeanOfTheMiddleTwo) {
    EXPECT_EQ(median({7}), 7);
    EXPECT_EQ(median({9, 1, 5}), 5);
    EXPECT_EQ(median({4, 1, 3, 2}), 2.5);
    EXPECT_EQ(median({1000, 1, 1}), 1);
}
