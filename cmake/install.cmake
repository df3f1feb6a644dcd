# What `cmake --install build` puts where (README.md, "Install"), and the files generated from
# velin's command tree for it: the man page (build/velin.1, `velin __man`) and the bash, zsh and
# fish completions (build/completions/, `velin completion SHELL`). The binary's own rule is in
# src/CMakeLists.txt. tests/integration/install_test.cpp installs into a DESTDIR and uninstalls
# with the README's steps.
include(GNUInstallDirs)

set(VELIN_COMPLETIONS_DIR ${PROJECT_BINARY_DIR}/completions)
set(VELIN_GENERATED_DOCS
  ${PROJECT_BINARY_DIR}/velin.1
  ${VELIN_COMPLETIONS_DIR}/velin
  ${VELIN_COMPLETIONS_DIR}/_velin
  ${VELIN_COMPLETIONS_DIR}/velin.fish)
# English whatever the builder's language: LC_ALL=C. Each file is written whole, then renamed.
set(VELIN_RUN "LC_ALL=C \"$<TARGET_FILE:velin>\"")
add_custom_command(
  OUTPUT ${VELIN_GENERATED_DOCS}
  COMMAND ${CMAKE_COMMAND} -E make_directory ${VELIN_COMPLETIONS_DIR}
  COMMAND sh -c "${VELIN_RUN} __man > velin.1.tmp && mv velin.1.tmp velin.1"
  COMMAND sh -c "${VELIN_RUN} completion bash > completions/velin.tmp && mv completions/velin.tmp completions/velin"
  COMMAND sh -c "${VELIN_RUN} completion zsh > completions/_velin.tmp && mv completions/_velin.tmp completions/_velin"
  COMMAND sh -c "${VELIN_RUN} completion fish > completions/velin.fish.tmp && mv completions/velin.fish.tmp completions/velin.fish"
  DEPENDS velin
  WORKING_DIRECTORY ${PROJECT_BINARY_DIR}
  COMMENT "Generating velin.1 and the shell completions from the command tree"
  VERBATIM)
add_custom_target(velin_docs ALL DEPENDS ${VELIN_GENERATED_DOCS})
# The install test installs them: they must be there when it runs.
if(TARGET velin_integration_tests)
  add_dependencies(velin_integration_tests velin_docs)
endif()

# The systemd units of contrib/, their ExecStart= pointing at the installed binary. Installed,
# not enabled: README.md says how to edit and enable them. /usr/local/lib/systemd/system is in
# systemd's search path for units of the local administrator.
set(VELIN_SYSTEMD_UNIT_DIR "lib/systemd/system" CACHE STRING
  "Where the systemd units go (relative to the install prefix, or absolute)")
file(GLOB VELIN_UNITS CONFIGURE_DEPENDS
  ${PROJECT_SOURCE_DIR}/contrib/systemd/*.service ${PROJECT_SOURCE_DIR}/contrib/systemd/*.timer)
set(VELIN_INSTALLED_UNITS "")
foreach(unit IN LISTS VELIN_UNITS)
  get_filename_component(name ${unit} NAME)
  file(READ ${unit} text)
  string(REPLACE "/usr/local/bin/velin" "${CMAKE_INSTALL_FULL_BINDIR}/velin" text "${text}")
  file(GENERATE OUTPUT ${PROJECT_BINARY_DIR}/systemd/${name} CONTENT "${text}")
  list(APPEND VELIN_INSTALLED_UNITS ${PROJECT_BINARY_DIR}/systemd/${name})
endforeach()

install(FILES ${PROJECT_BINARY_DIR}/velin.1 DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
install(FILES ${VELIN_COMPLETIONS_DIR}/velin
  DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions)
install(FILES ${VELIN_COMPLETIONS_DIR}/_velin DESTINATION ${CMAKE_INSTALL_DATADIR}/zsh/site-functions)
install(FILES ${VELIN_COMPLETIONS_DIR}/velin.fish
  DESTINATION ${CMAKE_INSTALL_DATADIR}/fish/vendor_completions.d)
install(FILES ${VELIN_INSTALLED_UNITS} DESTINATION ${VELIN_SYSTEMD_UNIT_DIR})
