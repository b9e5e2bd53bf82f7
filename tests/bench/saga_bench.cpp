// The saga benchmark: N orders through Kafka with at most C in flight, every outcome waited
// for, the invariants checked, and the broker's raw produce->consume round trip measured in
// the same run for reference. Run by scripts/bench; not part of the test suites.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>
#include <librdkafka/rdkafkacpp.h>
#include <soci/soci.h>

#include <algorithm>
#include <array>
#include <boost/json/parse.hpp>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <iostream>
#include <optional>
#include <set>
#include <string_view>
#include <thread>

#include "bench_util.hpp"
#include "contracts/contracts.hpp"
#include "events/kafka_client.hpp"
#include "system.hpp"

using namespace bazaar;
using namespace bazaar::e2e;
using namespace std::chrono_literals;
using Clock = std::chrono::system_clock;
using bench::env_int;
using bench::percentile;

namespace {

Clock::time_point parse_time(const std::string& text) {
  // PostgreSQL gives "2026-11-23 10:00:00.123456+00", ce_time "2026-11-23T10:00:00.123Z"; both
  // are UTC.
  std::tm tm{};
  double seconds = 0;
  std::sscanf(text.c_str(), "%d-%d-%d%*c%d:%d:%lf", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
              &tm.tm_hour, &tm.tm_min, &seconds);
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  tm.tm_sec = 0;
  const auto base = Clock::from_time_t(timegm(&tm));
  return base + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
}

// The broker alone: produce one record at a time and time until a consumer sees it.
std::vector<double> raw_round_trips(int n) {
  const std::string topic = tests::unique_name("bench.raw");
  tests::create_topic(topic, 1);
  events::Producer producer(tests::required_env("BAZAAR_KAFKA_BROKERS"));
  auto conf =
      events::make_kafka_conf({{"bootstrap.servers", tests::required_env("BAZAAR_KAFKA_BROKERS")},
                               {"group.id", tests::unique_name("bench-raw")},
                               {"auto.offset.reset", "earliest"},
                               {"enable.auto.commit", "false"},
                               {"fetch.wait.max.ms", "100"}});
  std::string err;
  std::unique_ptr<RdKafka::KafkaConsumer> consumer(RdKafka::KafkaConsumer::create(conf.get(), err));
  consumer->subscribe({topic});
  // Wait for the assignment by consuming a first record.
  producer.send({{topic, "warm", "{}", {}}}, 10s);
  for (int i = 0; i < 200; ++i) {
    std::unique_ptr<RdKafka::Message> m(consumer->consume(100));
    if (m->err() == RdKafka::ERR_NO_ERROR) break;
  }
  std::vector<double> out;
  for (int i = 0; i < n; ++i) {
    const auto start = std::chrono::steady_clock::now();
    producer.send({{topic, "k", std::to_string(i), {}}}, 10s);
    while (true) {
      std::unique_ptr<RdKafka::Message> m(consumer->consume(100));
      if (m->err() == RdKafka::ERR_NO_ERROR) break;
    }
    out.push_back(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
            .count());
  }
  consumer->close();
  return out;
}

// Where the time of a confirmed saga goes, hop by hop, from every record of its happy path on
// the broker and the inbox row of the transaction that answered it. Each hop runs from the
// broker's timestamp of a record (its producer's send) to that of the record answering it:
// `fetch` until the answering transaction began (the inbox row's `received_at`, the
// transaction's start: broker, consumer, the processor's batch), `handle` until the handler made
// its answer (ce_time: the inbox, the lock ahead, the handler), `commit` until the transaction
// committed (with PostgreSQL's track_commit_timestamp on; else it is part of `send`), `send`
// until the relay sent the answer. Clocks are this machine's; ce_time and the broker's
// timestamps are whole milliseconds, floored: half a millisecond is added to each, and a mean
// over many sagas is what they tell.
void print_hops(System& system, const std::set<std::string>& orders) {
  struct Step {
    const char* type;
    const char* answered_by;  // the service whose transaction answers this record
  };
  static constexpr std::array<Step, 8> kChain = {{
      {contracts::order::PlaceOrderV1::kType, "order"},
      {contracts::inventory::ReserveStockV1::kType, "inventory"},
      {contracts::inventory::StockReservedV1::kType, "order"},
      {contracts::payment::ChargePaymentV1::kType, "payment"},
      {contracts::payment::PaymentChargedV1::kType, "order"},
      {contracts::inventory::CommitReservationV1::kType, "inventory"},
      {contracts::inventory::ReservationCommittedV1::kType, "order"},
      {contracts::order::OrderConfirmedV1::kType, ""},
  }};
  struct Seen {
    std::string id;       // ce_id
    double sent_ms = 0;   // the broker's timestamp
    double event_ms = 0;  // ce_time
    double begun_ms = 0;  // the answering transaction's start and commit, from its inbox row
    double committed_ms = 0;
  };
  std::map<std::string, std::array<std::optional<Seen>, kChain.size()>> sagas;
  auto conf =
      events::make_kafka_conf({{"bootstrap.servers", tests::required_env("BAZAAR_KAFKA_BROKERS")},
                               {"group.id", tests::unique_name("bench-hops")},
                               {"auto.offset.reset", "earliest"},
                               {"enable.auto.commit", "false"}});
  std::string err;
  std::unique_ptr<RdKafka::KafkaConsumer> consumer(RdKafka::KafkaConsumer::create(conf.get(), err));
  REQUIRE_MESSAGE(consumer != nullptr, err);
  consumer->subscribe({contracts::topic::kOrderCommands, contracts::topic::kInventoryCommands,
                       contracts::topic::kInventoryEvents, contracts::topic::kPaymentCommands,
                       contracts::topic::kPaymentEvents, contracts::topic::kOrderEvents});
  const auto header = [](RdKafka::Message& m, const char* name) {
    const auto h = m.headers()->get_last(name);
    return std::string(static_cast<const char*>(h.value()), h.value_size());
  };
  const auto ms = [](Clock::time_point t) {
    return std::chrono::duration<double, std::milli>(t.time_since_epoch()).count();
  };
  std::size_t complete = 0;
  auto idle_since = std::chrono::steady_clock::now();
  while (complete < orders.size() && std::chrono::steady_clock::now() - idle_since < 5s) {
    std::unique_ptr<RdKafka::Message> m(consumer->consume(100));
    if (m->err() != RdKafka::ERR_NO_ERROR || m->headers() == nullptr) continue;
    idle_since = std::chrono::steady_clock::now();
    const std::string type = header(*m, "ce_type");
    const auto found = std::find_if(kChain.begin(), kChain.end(),
                                    [&](const Step& step) { return type == step.type; });
    if (found == kChain.end()) continue;
    const auto step = static_cast<std::size_t>(found - kChain.begin());
    const auto data =
        boost::json::parse(std::string_view(static_cast<const char*>(m->payload()), m->len()));
    const auto* order_id = data.as_object().if_contains("order_id");
    if (order_id == nullptr || !orders.contains(std::string(order_id->as_string()))) continue;
    auto& saga = sagas[std::string(order_id->as_string())];
    if (saga[step]) continue;
    saga[step] = Seen{header(*m, "ce_id"), static_cast<double>(m->timestamp().timestamp) + 0.5,
                      ms(parse_time(header(*m, "ce_time"))) + 0.5};
    complete += std::all_of(saga.begin(), saga.end(), [](const auto& s) { return s.has_value(); });
  }
  consumer->close();

  // The answering transactions, from the inbox rows of the records they answered.
  bool commit_times = true;
  for (std::size_t step = 0; step + 1 < kChain.size(); ++step) {
    auto& sql = system.db(kChain[step].answered_by);
    std::string tracked;
    sql << "SHOW track_commit_timestamp", soci::into(tracked);
    commit_times = commit_times && tracked == "on";
    std::map<std::string, Seen*> by_id;
    std::string ids = "{";
    for (auto& [order, saga] : sagas) {
      if (!saga[step]) continue;
      by_id[saga[step]->id] = &*saga[step];
      ids += (ids.size() > 1 ? "," : "") + saga[step]->id;
    }
    ids += "}";
    const std::string committed = tracked == "on"
                                      ? "extract(epoch FROM pg_xact_commit_timestamp(xmin))"
                                      : "CAST(0 AS double precision)";
    soci::rowset<soci::row> rows =
        (sql.prepare << "SELECT CAST(ce_id AS text), CAST(extract(epoch FROM received_at) AS "
                        "double precision) * 1000, CAST(" +
                            committed +
                            " AS double precision) * 1000 FROM inbox WHERE consumer = :consumer "
                            "AND ce_id = ANY(CAST(:ids AS uuid[]))",
         soci::use(std::string(kChain[step].answered_by)), soci::use(ids));
    for (const auto& row : rows) {
      const auto it = by_id.find(row.get<std::string>(0));
      if (it == by_id.end()) continue;
      it->second->begun_ms = row.get<double>(1);
      it->second->committed_ms = row.get<double>(2);
    }
  }

  std::printf("\n%-48s %8s %8s %8s %8s %8s\n", "hop of a confirmed saga (mean ms)", "fetch",
              "handle", "commit", "send", "total");
  const auto name = [](const char* type) {
    const std::string_view t(type);
    const auto end = t.rfind('.');
    const auto start = t.rfind('.', end - 1) + 1;
    return std::string(t.substr(start, end - start));
  };
  std::array<double, 5> sum_of_hops{};
  for (std::size_t step = 1; step < kChain.size(); ++step) {
    std::array<double, 5> sum{};
    int count = 0;
    for (const auto& [id, saga] : sagas) {
      const auto& asked = saga[step - 1];
      const auto& answer = saga[step];
      if (!asked || !answer || asked->begun_ms == 0) continue;
      const double committed = commit_times ? asked->committed_ms : answer->event_ms;
      sum[0] += asked->begun_ms - asked->sent_ms;
      sum[1] += answer->event_ms - asked->begun_ms;
      sum[2] += committed - answer->event_ms;
      sum[3] += answer->sent_ms - committed;
      sum[4] += answer->sent_ms - asked->sent_ms;
      ++count;
    }
    const std::string hop = name(kChain[step - 1].type) + " -> " + name(kChain[step].type) + " (" +
                            kChain[step - 1].answered_by + ")";
    std::printf("%-48s", hop.c_str());
    for (std::size_t i = 0; i < sum.size(); ++i) {
      const double mean = sum[i] / std::max(1, count);
      sum_of_hops[i] += mean;
      if (i == 2 && !commit_times) {
        std::printf(" %8s", "-");
      } else {
        std::printf(" %8.2f", mean);
      }
    }
    std::printf("\n");
  }
  std::printf("%-48s", "every hop");
  for (const double total : sum_of_hops) std::printf(" %8.2f", total);
  std::printf("\nsagas_with_every_hop=%zu of %zu%s\n", complete, orders.size(),
              commit_times ? "" : " (commit: PostgreSQL's track_commit_timestamp is off)");
}

// Which orders reached their outcome, heard from order.events as an analyst hears them:
// polling the order service's database instead would add the load generator's own queries to
// PostgreSQL's CPU, the figure this benchmark drives down.
class Outcomes {
 public:
  Outcomes() {
    auto conf =
        events::make_kafka_conf({{"bootstrap.servers", tests::required_env("BAZAAR_KAFKA_BROKERS")},
                                 {"group.id", tests::unique_name("bench-outcomes")},
                                 {"auto.offset.reset", "earliest"},
                                 {"enable.auto.commit", "false"},
                                 {"fetch.wait.max.ms", "100"}});
    std::string err;
    consumer_.reset(RdKafka::KafkaConsumer::create(conf.get(), err));
    REQUIRE_MESSAGE(consumer_ != nullptr, err);
    consumer_->subscribe({contracts::topic::kOrderEvents});
  }
  ~Outcomes() { consumer_->close(); }
  Outcomes(const Outcomes&) = delete;
  Outcomes& operator=(const Outcomes&) = delete;

  bool settled(const std::string& order_id) const { return settled_.contains(order_id); }

  /// Waits up to `wait` for records, then takes every one already fetched.
  void poll(std::chrono::milliseconds wait) {
    for (std::unique_ptr<RdKafka::Message> m(consumer_->consume(static_cast<int>(wait.count())));
         m->err() == RdKafka::ERR_NO_ERROR; m.reset(consumer_->consume(0))) {
      if (m->key() == nullptr || m->headers() == nullptr) continue;
      const auto type = m->headers()->get_last("ce_type");
      const std::string_view name(static_cast<const char*>(type.value()), type.value_size());
      if (name == contracts::order::OrderConfirmedV1::kType ||
          name == contracts::order::OrderRejectedV1::kType ||
          name == contracts::order::OrderCancelledV1::kType) {
        settled_.insert(*m->key());
      }
    }
  }

  /// Polls until `order_id` settled or `timeout` passed; true when it settled.
  bool wait_for(const std::string& order_id, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!settled(order_id) && std::chrono::steady_clock::now() < deadline) {
      poll(std::min<std::chrono::milliseconds>(timeout, 50ms));
    }
    return settled(order_id);
  }

 private:
  std::unique_ptr<RdKafka::KafkaConsumer> consumer_;
  std::set<std::string> settled_;
};

// What the broker handled per confirmed saga: its requests by API and the records and bytes
// that went in and out (appends to its internal topics, such as committed offsets, included). The
// load generator's own produce and fetch requests count too: it stands in for edge, which would
// send the orders and read the outcomes the same way.
void print_broker_counters(const std::map<std::string, double>& before,
                           const std::map<std::string, double>& after, int confirmed) {
  if (before.empty() || after.empty()) {
    std::printf("kafka_per_saga unavailable (the broker's counters could not be read)\n");
    return;
  }
  const auto per_saga = [&](const std::string& name) {
    const auto now = after.find(name);
    const auto was = before.find(name);
    const double used =
        (now != after.end() ? now->second : 0.0) - (was != before.end() ? was->second : 0.0);
    return used / std::max(1, confirmed);
  };
  double requests = 0;
  for (const auto& [name, count] : after) {
    if (name.rfind("request ", 0) == 0) requests += per_saga(name);
  }
  const double produce = per_saga("request Produce");
  const double fetch = per_saga("request Fetch");
  const double commits = per_saga("request OffsetCommit");
  std::printf(
      "kafka_per_saga requests=%.2f produce=%.2f fetch=%.2f offset_commit=%.2f other=%.2f "
      "records_in=%.2f bytes_in=%.0f bytes_out=%.0f\n",
      requests, produce, fetch, commits, requests - produce - fetch - commits,
      per_saga("topic MessagesInPerSec"), per_saga("topic BytesInPerSec"),
      per_saga("topic BytesOutPerSec"));
}

// PostgreSQL's cluster-wide counters, exact at the moment they are read: the next transaction
// id (only a transaction that writes takes one, so read-only ones are not counted) and the WAL
// position in bytes. pg_stat_database would give them per database, but a backend reports to
// it at most once a second, and an idle one up to ten seconds later.
struct PostgresCounts {
  double transactions = 0;
  double wal_bytes = 0;
};

PostgresCounts postgres_counters(soci::session& sql) {
  std::string next_xid;
  long long wal = 0;
  sql << "SELECT CAST(pg_snapshot_xmax(pg_current_snapshot()) AS text), "
         "CAST(pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0') AS bigint)",
      soci::into(next_xid), soci::into(wal);
  return {std::atof(next_xid.c_str()), static_cast<double>(wal)};
}

}  // namespace

TEST_CASE("saga benchmark") {
  const int n = env_int("BAZAAR_BENCH_ORDERS", 500);
  const int concurrency = env_int("BAZAAR_BENCH_CONCURRENCY", 50);
  const int rate = env_int("BAZAAR_BENCH_RATE", 0);  // orders a second; 0: as fast as allowed
  const int instances = env_int("BAZAAR_BENCH_INSTANCES", 1);
  auto services = kServices;
  services.push_back("analytics");
  System system({}, services);
  Bus bus;
  Shop shop{system, bus};
  Outcomes outcomes;
  // One more unit than orders: a warm-up order takes it.
  const std::string product = shop.list_product(bus.new_id(), 100, n + 1);
  // More instances of every consumer service join the same groups; one order settled after
  // they joined shows the rebalance is over before the clock starts.
  std::vector<std::string> members = services;
  for (int i = 2; i <= instances; ++i) {
    for (const auto& s : services) {
      const std::string name = s + "-" + std::to_string(i);
      system.start_instance(name, s, {});
      members.push_back(name);
    }
  }
  {
    const std::string warm = shop.place(bus.new_id(), product, 1, "tok_ok");
    REQUIRE(outcomes.wait_for(warm, 90s));
    REQUIRE(shop.status(warm) == "CONFIRMED");
  }
  // Orders of a product of their own, settled before the clock starts, at most 200 in flight:
  // a broker that has served for a while has compiled its hot paths, one started with the run
  // has not.
  if (const int warmup = env_int("BAZAAR_BENCH_WARMUP", 0); warmup > 0) {
    const std::string spare = shop.list_product(bus.new_id(), 100, warmup);
    std::deque<std::string> pending;
    int placed = 0;
    while (placed < warmup || !pending.empty()) {
      std::vector<std::string> buyers;
      while (placed + static_cast<int>(buyers.size()) < warmup &&
             pending.size() + buyers.size() < 200) {
        buyers.push_back(bus.new_id());
      }
      if (!buyers.empty()) {
        for (auto& id : shop.place_all(buyers, spare, 1, "tok_ok")) pending.push_back(id);
        placed += static_cast<int>(buyers.size());
      }
      REQUIRE(outcomes.wait_for(pending.front(), 120s));
      while (!pending.empty() && outcomes.settled(pending.front())) pending.pop_front();
    }
  }

  // CPU used by every process of the run while the sagas ran, from /proc: the services,
  // the broker, and PostgreSQL (the postmaster with its backends).
  const std::string run_dir = tests::required_env("BAZAAR_RUN_DIR");
  std::vector<std::pair<std::string, std::pair<int, bool>>> processes;
  for (const auto& s : members) processes.push_back({s, {system.pid(s), false}});
  const int broker_pid = bench::pid_in(run_dir + "/kafka/pid");
  processes.push_back({"kafka", {broker_pid, false}});
  processes.push_back({"postgresql", {bench::pid_in(run_dir + "/pg/data/postmaster.pid"), true}});
  const auto cpu_now = [&] {
    std::vector<double> out;
    for (const auto& [name, p] : processes) out.push_back(bench::cpu_ms(p.first, p.second));
    return out;
  };
  // The broker's request counters, read before the CPU so that attaching to it is not counted.
  const char* counters_tool = std::getenv("BAZAAR_BENCH_BROKER_COUNTERS");
  const std::string broker_tool = counters_tool != nullptr ? counters_tool : "";
  const auto broker_before = bench::broker_counters(broker_tool, broker_pid);
  const auto db_before = postgres_counters(system.db("order"));
  const std::vector<double> cpu_before = cpu_now();
  const int postmaster = processes.back().second.first;
  const auto pg_before = bench::pg_children_cpu(postmaster);

  std::vector<std::string> orders;
  std::map<std::string, Clock::time_point> sent_at;
  std::deque<std::string> in_flight;
  const bench::DirtySampler dirty;
  const auto started = std::chrono::steady_clock::now();
  while (static_cast<int>(orders.size()) < n || !in_flight.empty()) {
    // Every order that may leave now leaves in one produce, as a pass of edge's relay would
    // send the orders it accepted meanwhile.
    std::vector<std::string> buyers;
    while (static_cast<int>(orders.size() + buyers.size()) < n &&
           static_cast<int>(in_flight.size() + buyers.size()) < concurrency) {
      if (rate > 0) {
        // An open-loop schedule: order i leaves at i / rate seconds, late ones at once.
        const auto due =
            started + std::chrono::microseconds{
                          static_cast<long long>(orders.size() + buyers.size()) * 1'000'000 / rate};
        if (std::chrono::steady_clock::now() < due) break;
      }
      buyers.push_back(bus.new_id());
    }
    if (!buyers.empty()) {
      const auto now = Clock::now();
      for (const auto& id : shop.place_all(buyers, product, 1, "tok_ok")) {
        sent_at[id] = now;
        orders.push_back(id);
        in_flight.push_back(id);
      }
    }
    if (in_flight.empty()) {
      // Paced and nothing outstanding: wait for the next order's departure time.
      std::this_thread::sleep_for(std::chrono::milliseconds{1});
      continue;
    }
    const bool pacing = rate > 0 && static_cast<int>(orders.size()) < n;
    if (!outcomes.wait_for(in_flight.front(), pacing ? 5ms : 120s) && !pacing) {
      FAIL("order " << in_flight.front() << " never settled");
    }
    while (!in_flight.empty() && outcomes.settled(in_flight.front())) in_flight.pop_front();
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  const std::vector<double> cpu_after = cpu_now();
  const auto db_after = postgres_counters(system.db("order"));
  const auto broker_after = bench::broker_counters(broker_tool, broker_pid);
  const auto pg_by_label = bench::pg_cpu_by_label(pg_before, bench::pg_children_cpu(postmaster));

  std::vector<double> latencies;
  std::map<long long, std::vector<double>> by_second;  // by the second of the run they left in
  int confirmed = 0;
  for (const auto& id : orders) {
    std::string status, updated;
    std::string oid = id;
    system.db("order")
        << "SELECT status, updated_at::text FROM orders WHERE order_id = CAST(:id AS uuid)",
        soci::use(oid), soci::into(status), soci::into(updated);
    confirmed += status == "CONFIRMED";
    latencies.push_back(
        std::chrono::duration<double, std::milli>(parse_time(updated) - sent_at[id]).count());
    by_second[static_cast<long long>(
                  std::chrono::duration<double>(sent_at[id] - sent_at[orders.front()]).count())]
        .push_back(latencies.back());
  }
  const int violations = shop.check_invariants(orders, {product}) + (n - confirmed);

  // Analytics: how far behind it was when the last saga settled, how long it took to catch
  // up with every confirmation, and the events it applied a second while keeping up.
  long long analytics_lag = -1;
  const Run lagged = bazaarctl({"lag", "--group", "analytics", "-o", "json"});
  if (lagged.code == 0) {
    const auto pos = lagged.out.find("\"lag\":", lagged.out.rfind("\"group\""));
    if (pos != std::string::npos) analytics_lag = std::atoll(lagged.out.c_str() + pos + 6);
  }
  const auto lag_started = std::chrono::steady_clock::now();
  const bool caught_up = tests::wait_until(std::chrono::seconds{120}, [&] {
    long long seen = 0;
    soci::indicator ind = soci::i_ok;
    system.db("analytics") << "SELECT count FROM counters WHERE metric = 'conversion' "
                              "AND name = 'confirmed'",
        soci::into(seen, ind);
    return system.db("analytics").got_data() && seen >= confirmed;
  });
  const double catch_up_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - lag_started)
          .count();
  long long applied = 0;
  double applied_s = 0;
  system.db("analytics") << "SELECT CAST(count(*) AS bigint), COALESCE(CAST(extract(epoch FROM "
                            "max(received_at) - min(received_at)) AS double precision), 0) "
                            "FROM inbox WHERE consumer = 'analytics'",
      soci::into(applied), soci::into(applied_s);
  const auto raw = raw_round_trips(200);
  print_hops(system, std::set<std::string>(orders.begin(), orders.end()));

  std::printf("\n%-28s %10s %10s %10s\n", "measure", "p50_ms", "p99_ms", "count");
  std::printf("%-28s %10.1f %10.1f %10zu\n", "saga place->confirmed", percentile(latencies, 0.5),
              percentile(latencies, 0.99), latencies.size());
  std::printf("%-28s %10.1f %10.1f %10zu\n", "raw produce->consume", percentile(raw, 0.5),
              percentile(raw, 0.99), raw.size());
  std::printf("orders=%d concurrency=%d rate=%s instances=%d confirmed=%d elapsed_s=%.2f\n", n,
              concurrency, rate > 0 ? std::to_string(rate).c_str() : "max", instances, confirmed,
              seconds);
  {
    // A steady latency and one of short stalls can share a p99: the p99 of each second's orders
    // tells them apart (a stall shows as a few bad seconds among good ones).
    std::vector<double> p99s;
    int over = 0;
    for (auto& [second, values] : by_second) {
      p99s.push_back(percentile(values, 0.99));
      over += p99s.back() > 100.0;
    }
    std::printf("p99_of_each_second median_ms=%.1f worst_ms=%.1f seconds_over_100_ms=%d of %zu\n",
                percentile(p99s, 0.5), percentile(p99s, 1.0), over, p99s.size());
    // The seconds well above the median: when each came, and whether the kernel wrote out a
    // pile of dirty pages then (the page cache's dirty MiB the second before and after).
    const long long first =
        std::chrono::duration_cast<std::chrono::seconds>(sent_at[orders.front()].time_since_epoch())
            .count();
    const double median = percentile(p99s, 0.5);
    const auto mib = [](double v) {
      return v < 0 ? std::string("?") : std::to_string(std::lround(v));
    };
    int shown = 0;
    for (auto& [second, values] : by_second) {
      const double p99 = percentile(values, 0.99);
      if (p99 <= 2 * median || ++shown > 12) continue;
      std::printf("  slow second +%llds: p99 %.0f ms, dirty page cache %s -> %s MiB\n", second, p99,
                  mib(dirty.until(first + second - 1)).c_str(),
                  mib(dirty.from(first + second + 1)).c_str());
    }
  }
  std::printf("saga_p50/raw_p50=%.1f\n",
              percentile(latencies, 0.5) / std::max(0.001, percentile(raw, 0.5)));
  std::printf(
      "analytics_events_per_s=%.0f analytics_lag_at_end=%lld analytics_catch_up_ms=%.0f%s\n",
      applied_s > 0 ? static_cast<double>(applied) / applied_s : 0.0, analytics_lag, catch_up_ms,
      caught_up ? "" : " (never caught up)");
  // Per completed saga, so that runs of other lengths and on a busy machine compare.
  std::printf("\n%-17s %12s %14s %10s\n", "process", "cpu_ms", "cpu_ms_per_saga", "rss_mib");
  double cpu_total = 0;
  for (std::size_t i = 0; i < processes.size(); ++i) {
    const double used = cpu_after[i] - cpu_before[i];
    cpu_total += used;
    std::printf("%-17s %12.0f %14.2f %10.1f\n", processes[i].first.c_str(), used,
                used / std::max(1, confirmed), bench::rss_mib(processes[i].second.first));
  }
  // PostgreSQL's share by database (its backends) and its own helpers, included above.
  for (const auto& [label, used] : pg_by_label) {
    // "  order db" for bazaar_order.
    const std::string name =
        "  " + (label.rfind("bazaar_", 0) == 0 ? label.substr(7) + " db" : label);
    std::printf("%-17s %12.0f %14.2f\n", name.c_str(), used, used / std::max(1, confirmed));
  }
  std::printf("%-17s %12.0f %14.2f\n", "total", cpu_total, cpu_total / std::max(1, confirmed));
  if (!broker_tool.empty()) print_broker_counters(broker_before, broker_after, confirmed);
  const double sagas = std::max(1, confirmed);
  std::printf("postgresql_per_saga transactions=%.2f wal_bytes=%.0f\n",
              (db_after.transactions - db_before.transactions) / sagas,
              (db_after.wal_bytes - db_before.wal_bytes) / sagas);
  std::printf("sagas_per_s=%.1f p50_ms=%.1f p99_ms=%.1f violations=%d cpu_ms_per_saga=%.2f\n",
              static_cast<double>(n) / seconds, percentile(latencies, 0.5),
              percentile(latencies, 0.99), violations, cpu_total / std::max(1, confirmed));
}

int main(int argc, char** argv) {
  doctest::Context context(argc, argv);
  return context.run();
}
