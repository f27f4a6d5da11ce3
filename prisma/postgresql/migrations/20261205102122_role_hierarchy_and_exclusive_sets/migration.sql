-- CreateTable
CREATE TABLE "RoleInclusion" (
    "roleName" TEXT NOT NULL,
    "includedName" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "RoleInclusion_pkey" PRIMARY KEY ("roleName","includedName")
);

-- CreateTable
CREATE TABLE "ExclusiveRoleSet" (
    "name" TEXT NOT NULL,
    "reason" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "ExclusiveRoleSet_pkey" PRIMARY KEY ("name")
);

-- CreateTable
CREATE TABLE "ExclusiveRoleMember" (
    "setName" TEXT NOT NULL,
    "roleName" TEXT NOT NULL,

    CONSTRAINT "ExclusiveRoleMember_pkey" PRIMARY KEY ("setName","roleName")
);

-- CreateIndex
CREATE INDEX "RoleInclusion_includedName_idx" ON "RoleInclusion"("includedName");

-- CreateIndex
CREATE INDEX "ExclusiveRoleMember_roleName_idx" ON "ExclusiveRoleMember"("roleName");

-- AddForeignKey
ALTER TABLE "RoleInclusion" ADD CONSTRAINT "RoleInclusion_roleName_fkey" FOREIGN KEY ("roleName") REFERENCES "Role"("name") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "RoleInclusion" ADD CONSTRAINT "RoleInclusion_includedName_fkey" FOREIGN KEY ("includedName") REFERENCES "Role"("name") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ExclusiveRoleMember" ADD CONSTRAINT "ExclusiveRoleMember_setName_fkey" FOREIGN KEY ("setName") REFERENCES "ExclusiveRoleSet"("name") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ExclusiveRoleMember" ADD CONSTRAINT "ExclusiveRoleMember_roleName_fkey" FOREIGN KEY ("roleName") REFERENCES "Role"("name") ON DELETE CASCADE ON UPDATE CASCADE;

