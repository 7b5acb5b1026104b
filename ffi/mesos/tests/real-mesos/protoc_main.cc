// protoc with the C++ generator only: all the real-Mesos harness needs to
// turn Mesos 1.11's .proto files into headers for protobuf 3.5.
#include <google/protobuf/compiler/command_line_interface.h>
#include <google/protobuf/compiler/cpp/cpp_generator.h>

int main(int argc, char* argv[])
{
  google::protobuf::compiler::CommandLineInterface cli;
  google::protobuf::compiler::cpp::CppGenerator cpp;
  cli.RegisterGenerator("--cpp_out", "--cpp_opt", &cpp, "C++ header and source.");
  return cli.Run(argc, argv);
}
