#include "analytics_rules.hpp"

#include <doctest/doctest.h>

#include <numeric>

using namespace bazaar::analytics;

TEST_CASE("an event counts on the UTC day of its ce_time") {
  const auto fallback = bazaar::events::Clock::time_point{};
  CHECK(event_time("2026-11-30T23:59:59.999Z", fallback).day == "2026-11-30");
  // An offset moves it to the UTC day it really was.
  CHECK(event_time("2026-12-01T00:30:00+01:00", fallback).day == "2026-11-30");
  CHECK(event_time("2026-11-30T00:00:00.000Z", fallback).epoch_ms == 1'795'996'800'000);
  // A ce_time that does not parse counts when it was read.
  CHECK(event_time("yesterday", fallback).day == "1970-01-01");
  CHECK(utc_day(-1) == "1969-12-31");
}

TEST_CASE("durations fall in logarithmic buckets whose bounds enclose them") {
  CHECK(duration_bucket(0) == 0);
  CHECK(duration_bucket(-5) == 0);
  CHECK(duration_bucket(1) == 0);
  for (double ms : {1.5, 7.0, 48.6, 100.0, 999.0, 1000.0, 20'000.0}) {
    const int b = duration_bucket(ms);
    CHECK(bucket_upper_ms(b) >= ms);
    CHECK(bucket_upper_ms(b - 1) < ms);
    CHECK(bucket_upper_ms(b) / bucket_upper_ms(b - 1) < 1.19);
  }
  CHECK(duration_bucket(1e12) == kDurationBuckets - 1);
}

TEST_CASE("percentiles come from the histogram within a bucket's width") {
  CHECK(quantile({}, 0.5) == 0);
  std::map<int, long long> h;
  // 100 sagas of 10 ms, 900 of 100 ms, 10 of 5 s.
  h[duration_bucket(10)] += 100;
  h[duration_bucket(100)] += 900;
  h[duration_bucket(5000)] += 10;
  // Each percentile lies in the bucket of the duration it stands for.
  const auto within = [](double value, double ms) {
    const int b = duration_bucket(ms);
    return value > bucket_upper_ms(b - 1) && value <= bucket_upper_ms(b);
  };
  CHECK(within(quantile(h, 0.5), 100));
  CHECK(within(quantile(h, 0.05), 10));
  CHECK(within(quantile(h, 0.999), 5000));
  CHECK(quantile(h, 1.0) == doctest::Approx(bucket_upper_ms(duration_bucket(5000))));
  // Monotonic in q.
  double last = 0;
  for (double q = 0.01; q <= 1.0; q += 0.01) {
    const double v = quantile(h, q);
    CHECK(v >= last);
    last = v;
  }
}

TEST_CASE("a refund is spread over the lines in proportion and adds up exactly") {
  const auto shares = allocate_refund(1000, {2500, 7500});
  CHECK(shares == std::vector<long long>{250, 750});
  const auto thirds = allocate_refund(100, {1, 1, 1});
  CHECK(std::accumulate(thirds.begin(), thirds.end(), 0LL) == 100);
  CHECK(thirds == std::vector<long long>{34, 33, 33});
  CHECK(allocate_refund(5, {}).empty());
  CHECK(allocate_refund(7, {0, 0}) == std::vector<long long>{7, 0});
  // Amounts near the int64 limit do not overflow.
  const long long big = 4'000'000'000'000'000'000;
  const auto huge = allocate_refund(big, {big, big});
  CHECK(huge[0] + huge[1] == big);
}

TEST_CASE("failure reasons are counted under a bounded key") {
  CHECK(reason_key("") == "unspecified");
  CHECK(reason_key("payment_declined") == "payment_declined");
  CHECK(reason_key(std::string(300, 'x')).size() == 100);
  // A two-byte character cut at the limit is dropped whole.
  const std::string cut = std::string(99, 'a') + "\xC3\xA9" + "tail";
  CHECK(reason_key(cut) == std::string(99, 'a'));
  CHECK(sales_metric("2026-11-30") == "sales.2026-11-30");
}

TEST_CASE("a refund in parts adds up, line by line, to the same refund whole") {
  const std::vector<long long> lines{1000, 600};
  const auto first = allocate_further_refund(0, 700, lines);
  const auto rest = allocate_further_refund(700, 900, lines);
  CHECK(first[0] + first[1] == 700);
  CHECK(rest[0] + rest[1] == 900);
  CHECK(first[0] + rest[0] == 1000);
  CHECK(first[1] + rest[1] == 600);
  CHECK(allocate_further_refund(0, 1600, lines) == lines);
}

TEST_CASE("a larger refund never gives a line less, and each line keeps within a unit") {
  // Lines 1, 3, 3 refunded 3 then 4 in total: largest remainders gave the last line 1 then 0.
  CHECK(allocate_further_refund(3, 1, {1, 3, 3}) == std::vector<long long>{0, 1, 0});
  // Every split of small orders, every total from nothing to twice the order.
  for (long long a = 0; a <= 6; ++a) {
    for (long long b = 1; b <= 7; ++b) {
      for (long long c = 0; c <= 9; ++c) {
        const std::vector<long long> lines{a, b, c, b + c};
        const long long whole = a + b + c + b + c;
        std::vector<long long> earlier(lines.size(), 0);
        for (long long total = 0; total <= 2 * whole; ++total) {
          const auto shares = allocate_refund(total, lines);
          CHECK(std::accumulate(shares.begin(), shares.end(), 0LL) == total);
          for (std::size_t i = 0; i < lines.size(); ++i) {
            CHECK(shares[i] >= earlier[i]);
            const double exact = static_cast<double>(total * lines[i]) / static_cast<double>(whole);
            CHECK(std::abs(static_cast<double>(shares[i]) - exact) < 1.0);
          }
          if (total == whole) CHECK(shares == lines);
          earlier = shares;
        }
      }
    }
  }
}
