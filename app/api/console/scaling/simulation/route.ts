export { getScalingSimulation as GET } from "@/lib/scaling/console";
