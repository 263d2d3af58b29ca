enum _IOWorktreePlaceholder {}
