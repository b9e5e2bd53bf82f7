// Creates the topics of a topic list on a broker; used by scripts/infra.
#include <CLI/CLI.hpp>
#include <fstream>
#include <iostream>
#include <sstream>

#include "events/kafka_client.hpp"

int main(int argc, char** argv) {
  CLI::App app{"Creates every missing topic named in a topic list (`name [partitions]` lines)."};
  std::string brokers;
  std::string file;
  int partitions = 6;
  int replication = 1;
  app.add_option("--brokers", brokers, "Kafka bootstrap servers")
      ->envname("BAZAAR_KAFKA_BROKERS")
      ->required();
  app.add_option("--file", file, "Topic list")->required()->check(CLI::ExistingFile);
  app.add_option("--partitions", partitions, "Partitions when a line names none")
      ->check(CLI::Range(1, 1000));
  app.add_option("--replication-factor", replication, "Replication factor")
      ->envname("BAZAAR_REPLICATION_FACTOR")
      ->check(CLI::Range(1, 10));
  CLI11_PARSE(app, argc, argv);

  std::ifstream in(file);
  std::stringstream text;
  text << in.rdbuf();
  auto topics = bazaar::events::parse_topic_list(text.str(), partitions, replication);
  if (!topics) {
    std::cerr << file << ": " << topics.error().message << "\n";
    return 2;
  }
  if (auto made = bazaar::events::ensure_topics(brokers, topics.value()); !made) {
    std::cerr << "creating topics failed: " << made.error().message << "\n";
    return 1;
  }
  std::cerr << "[topics] " << topics.value().size() << " topics present on " << brokers << "\n";
  return 0;
}
