import Provisioning

EnrollCommand.main()
